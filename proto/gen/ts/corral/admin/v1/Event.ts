// Original file: proto/corral/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Event {
  'atUnixMs'?: (number | string | Long);
  'plugin'?: (string);
  'instance'?: (string);
  'kind'?: (string);
  'message'?: (string);
  'from'?: (string);
  'to'?: (string);
}

export interface Event__Output {
  'atUnixMs': (number);
  'plugin': (string);
  'instance': (string);
  'kind': (string);
  'message': (string);
  'from': (string);
  'to': (string);
}
