// Original file: proto/corral/admin/v1/admin.proto

import type { Alert as _corral_admin_v1_Alert, Alert__Output as _corral_admin_v1_Alert__Output } from '../../../corral/admin/v1/Alert.ts';

export interface ListAlertsResponse {
  'alerts'?: (_corral_admin_v1_Alert)[];
}

export interface ListAlertsResponse__Output {
  'alerts': (_corral_admin_v1_Alert__Output)[];
}
