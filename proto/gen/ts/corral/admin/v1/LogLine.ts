// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface LogLine {
  'atUnixMs'?: (number | string | Long);
  'plugin'?: (string);
  'instance'?: (string);
  'stream'?: (string);
  'line'?: (string);
}

export interface LogLine__Output {
  'atUnixMs': (number);
  'plugin': (string);
  'instance': (string);
  'stream': (string);
  'line': (string);
}
