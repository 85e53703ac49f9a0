// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

export interface ProfileChunk {
  'data'?: (Buffer | Uint8Array | string);
  'contentType'?: (string);
  'totalBytes'?: (number | string | Long);
  'done'?: (boolean);
}

export interface ProfileChunk__Output {
  'data': (Buffer);
  'contentType': (string);
  'totalBytes': (number);
  'done': (boolean);
}
