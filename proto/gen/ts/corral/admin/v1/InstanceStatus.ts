// Original file: proto/corral/admin/v1/admin.proto

import type { InstanceUsage as _corral_admin_v1_InstanceUsage, InstanceUsage__Output as _corral_admin_v1_InstanceUsage__Output } from '../../../corral/admin/v1/InstanceUsage.ts';

export interface InstanceStatus {
  'id'?: (string);
  'pid'?: (number);
  'release'?: (string);
  'pluginVersion'?: (string);
  'apiVersion'?: (string);
  'usage'?: (_corral_admin_v1_InstanceUsage | null);
  'cpuBreaker'?: (string);
  'cpuBreakerReason'?: (string);
}

export interface InstanceStatus__Output {
  'id': (string);
  'pid': (number);
  'release': (string);
  'pluginVersion': (string);
  'apiVersion': (string);
  'usage': (_corral_admin_v1_InstanceUsage__Output | null);
  'cpuBreaker': (string);
  'cpuBreakerReason': (string);
}
