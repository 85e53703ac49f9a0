// Original file: proto/corral/admin/v1/admin.proto

import type { Certificate as _corral_admin_v1_Certificate, Certificate__Output as _corral_admin_v1_Certificate__Output } from '../../../corral/admin/v1/Certificate.ts';

export interface ListCertificatesResponse {
  'certificates'?: (_corral_admin_v1_Certificate)[];
}

export interface ListCertificatesResponse__Output {
  'certificates': (_corral_admin_v1_Certificate__Output)[];
}
