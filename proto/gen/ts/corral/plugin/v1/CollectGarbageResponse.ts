// Original file: proto/corral/plugin/v1/control.proto

import type { RuntimeStats as _corral_plugin_v1_RuntimeStats, RuntimeStats__Output as _corral_plugin_v1_RuntimeStats__Output } from '../../../corral/plugin/v1/RuntimeStats.ts';
import type { Long } from '@grpc/proto-loader';

export interface CollectGarbageResponse {
  'before'?: (_corral_plugin_v1_RuntimeStats | null);
  'after'?: (_corral_plugin_v1_RuntimeStats | null);
  'durationUs'?: (number | string | Long);
}

export interface CollectGarbageResponse__Output {
  'before': (_corral_plugin_v1_RuntimeStats__Output | null);
  'after': (_corral_plugin_v1_RuntimeStats__Output | null);
  'durationUs': (number);
}
