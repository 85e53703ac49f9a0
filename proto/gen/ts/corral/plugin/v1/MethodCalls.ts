// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface MethodCalls {
  'method'?: (string);
  'codes'?: ({[key: string]: number | string | Long});
  'bucketUpperBoundsSeconds'?: (number | string)[];
  'bucketCumulativeCounts'?: (number | string | Long)[];
  'sumSeconds'?: (number | string);
  'count'?: (number | string | Long);
}

export interface MethodCalls__Output {
  'method': (string);
  'codes': ({[key: string]: number});
  'bucketUpperBoundsSeconds': (number)[];
  'bucketCumulativeCounts': (number)[];
  'sumSeconds': (number);
  'count': (number);
}
