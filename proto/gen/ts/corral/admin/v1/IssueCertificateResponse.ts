// Original file: proto/corral/admin/v1/admin.proto

import type { Certificate as _corral_admin_v1_Certificate, Certificate__Output as _corral_admin_v1_Certificate__Output } from '../../../corral/admin/v1/Certificate.ts';

export interface IssueCertificateResponse {
  'certificate'?: (_corral_admin_v1_Certificate | null);
  'certPem'?: (string);
  'keyPem'?: (string);
  'caPem'?: (string);
}

export interface IssueCertificateResponse__Output {
  'certificate': (_corral_admin_v1_Certificate__Output | null);
  'certPem': (string);
  'keyPem': (string);
  'caPem': (string);
}
