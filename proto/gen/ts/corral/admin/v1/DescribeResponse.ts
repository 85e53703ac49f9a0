// Original file: proto/corral/admin/v1/admin.proto

import type { PluginStatus as _corral_admin_v1_PluginStatus, PluginStatus__Output as _corral_admin_v1_PluginStatus__Output } from '../../../corral/admin/v1/PluginStatus.ts';
import type { Alert as _corral_admin_v1_Alert, Alert__Output as _corral_admin_v1_Alert__Output } from '../../../corral/admin/v1/Alert.ts';
import type { Event as _corral_admin_v1_Event, Event__Output as _corral_admin_v1_Event__Output } from '../../../corral/admin/v1/Event.ts';

export interface DescribeResponse {
  'status'?: (_corral_admin_v1_PluginStatus | null);
  'configJson'?: (string);
  'alerts'?: (_corral_admin_v1_Alert)[];
  'events'?: (_corral_admin_v1_Event)[];
  'currentRelease'?: (string);
}

export interface DescribeResponse__Output {
  'status': (_corral_admin_v1_PluginStatus__Output | null);
  'configJson': (string);
  'alerts': (_corral_admin_v1_Alert__Output)[];
  'events': (_corral_admin_v1_Event__Output)[];
  'currentRelease': (string);
}
