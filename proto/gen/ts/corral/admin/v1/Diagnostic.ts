// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Diagnostic {
  'plugin'?: (string);
  'path'?: (string);
  'bytes'?: (number | string | Long);
  'atUnixMs'?: (number | string | Long);
}

export interface Diagnostic__Output {
  'plugin': (string);
  'path': (string);
  'bytes': (number);
  'atUnixMs': (number);
}
