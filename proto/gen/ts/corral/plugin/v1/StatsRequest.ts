// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface StatsRequest {
  'intervalMs'?: (number);
  'heartbeatMs'?: (number);
  'heapDeadbandBytes'?: (number | string | Long);
}

export interface StatsRequest__Output {
  'intervalMs': (number);
  'heartbeatMs': (number);
  'heapDeadbandBytes': (number);
}
