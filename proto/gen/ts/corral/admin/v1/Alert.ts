// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Alert {
  'kind'?: (string);
  'plugin'?: (string);
  'message'?: (string);
  'evidence'?: ({[key: string]: number | string});
  'atUnixMs'?: (number | string | Long);
  'acknowledged'?: (boolean);
}

export interface Alert__Output {
  'kind': (string);
  'plugin': (string);
  'message': (string);
  'evidence': ({[key: string]: number});
  'atUnixMs': (number);
  'acknowledged': (boolean);
}
