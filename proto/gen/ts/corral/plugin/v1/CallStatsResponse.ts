// Original file: proto/corral/plugin/v1/control.proto

import type { MethodCalls as _corral_plugin_v1_MethodCalls, MethodCalls__Output as _corral_plugin_v1_MethodCalls__Output } from '../../../corral/plugin/v1/MethodCalls.ts';

export interface CallStatsResponse {
  'methods'?: (_corral_plugin_v1_MethodCalls)[];
}

export interface CallStatsResponse__Output {
  'methods': (_corral_plugin_v1_MethodCalls__Output)[];
}
