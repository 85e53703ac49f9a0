// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface DrainResponse {
  'inFlight'?: (number | string | Long);
}

export interface DrainResponse__Output {
  'inFlight': (number);
}
