// Original file: proto/corral/plugin/v1/control.proto

import type { Long } from '@grpc/proto-loader';

// Original file: proto/corral/plugin/v1/control.proto

export const _corral_plugin_v1_ProfileRequest_Kind = {
  KIND_UNSPECIFIED: 'KIND_UNSPECIFIED',
  GOROUTINE: 'GOROUTINE',
  HEAP: 'HEAP',
  CPU: 'CPU',
} as const;

export type _corral_plugin_v1_ProfileRequest_Kind =
  | 'KIND_UNSPECIFIED'
  | 0
  | 'GOROUTINE'
  | 1
  | 'HEAP'
  | 2
  | 'CPU'
  | 3

export type _corral_plugin_v1_ProfileRequest_Kind__Output = typeof _corral_plugin_v1_ProfileRequest_Kind[keyof typeof _corral_plugin_v1_ProfileRequest_Kind]

export interface ProfileRequest {
  'kind'?: (_corral_plugin_v1_ProfileRequest_Kind);
  'gcFirst'?: (boolean);
  'durationMs'?: (number);
  'maxBytes'?: (number | string | Long);
}

export interface ProfileRequest__Output {
  'kind': (_corral_plugin_v1_ProfileRequest_Kind__Output);
  'gcFirst': (boolean);
  'durationMs': (number);
  'maxBytes': (number);
}
