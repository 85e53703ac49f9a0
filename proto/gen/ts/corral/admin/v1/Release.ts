// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Release {
  'sha256'?: (string);
  'sizeBytes'?: (number | string | Long);
  'importedUnixMs'?: (number | string | Long);
  'activatedUnixMs'?: (number | string | Long);
  'current'?: (boolean);
  'serving'?: (boolean);
}

export interface Release__Output {
  'sha256': (string);
  'sizeBytes': (number);
  'importedUnixMs': (number);
  'activatedUnixMs': (number);
  'current': (boolean);
  'serving': (boolean);
}
