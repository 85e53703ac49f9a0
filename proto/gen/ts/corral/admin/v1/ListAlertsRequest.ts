// Original file: proto/corral/admin/v1/admin.proto


export interface ListAlertsRequest {
  'plugin'?: (string);
  'includeAcknowledged'?: (boolean);
}

export interface ListAlertsRequest__Output {
  'plugin': (string);
  'includeAcknowledged': (boolean);
}
