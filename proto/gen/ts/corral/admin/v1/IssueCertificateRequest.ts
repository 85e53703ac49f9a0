// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface IssueCertificateRequest {
  'role'?: (string);
  'name'?: (string);
  'plugins'?: (string)[];
  'ttlMs'?: (number | string | Long);
}

export interface IssueCertificateRequest__Output {
  'role': (string);
  'name': (string);
  'plugins': (string)[];
  'ttlMs': (number);
}
