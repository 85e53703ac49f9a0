// Original file: proto/corral/admin/v1/admin.proto


export interface AckAlertsRequest {
  'plugin'?: (string);
  'kind'?: (string);
}

export interface AckAlertsRequest__Output {
  'plugin': (string);
  'kind': (string);
}
