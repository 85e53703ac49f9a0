// Original file: proto/corral/admin/v1/admin.proto

import type { PluginStatus as _corral_admin_v1_PluginStatus, PluginStatus__Output as _corral_admin_v1_PluginStatus__Output } from '../../../corral/admin/v1/PluginStatus.ts';

export interface StatusResponse {
  'plugins'?: (_corral_admin_v1_PluginStatus)[];
}

export interface StatusResponse__Output {
  'plugins': (_corral_admin_v1_PluginStatus__Output)[];
}
