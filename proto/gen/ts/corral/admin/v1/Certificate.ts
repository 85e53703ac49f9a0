// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Certificate {
  'serial'?: (string);
  'identity'?: (string);
  'kind'?: (string);
  'name'?: (string);
  'plugins'?: (string)[];
  'notBeforeUnixMs'?: (number | string | Long);
  'notAfterUnixMs'?: (number | string | Long);
  'revoked'?: (boolean);
}

export interface Certificate__Output {
  'serial': (string);
  'identity': (string);
  'kind': (string);
  'name': (string);
  'plugins': (string)[];
  'notBeforeUnixMs': (number);
  'notAfterUnixMs': (number);
  'revoked': (boolean);
}
