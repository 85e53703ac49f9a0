// Original file: proto/corral/admin/v1/admin.proto

import type { InstanceStatus as _corral_admin_v1_InstanceStatus, InstanceStatus__Output as _corral_admin_v1_InstanceStatus__Output } from '../../../corral/admin/v1/InstanceStatus.ts';
import type { Long } from '@grpc/proto-loader';

export interface PluginStatus {
  'name'?: (string);
  'state'?: (string);
  'restarts'?: (number);
  'instance'?: (_corral_admin_v1_InstanceStatus | null);
  'reason'?: (string);
  'stateAgeMs'?: (number | string | Long);
  'address'?: (string);
  'tcpAddress'?: (string);
}

export interface PluginStatus__Output {
  'name': (string);
  'state': (string);
  'restarts': (number);
  'instance': (_corral_admin_v1_InstanceStatus__Output | null);
  'reason': (string);
  'stateAgeMs': (number);
  'address': (string);
  'tcpAddress': (string);
}
