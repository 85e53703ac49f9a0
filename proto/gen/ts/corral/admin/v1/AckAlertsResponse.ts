// Original file: proto/corral/admin/v1/admin.proto


export interface AckAlertsResponse {
  'acknowledged'?: (number);
}

export interface AckAlertsResponse__Output {
  'acknowledged': (number);
}
