// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface ParkResponse {
  'inFlight'?: (number | string | Long);
  'closed'?: (boolean);
}

export interface ParkResponse__Output {
  'inFlight': (number);
  'closed': (boolean);
}
