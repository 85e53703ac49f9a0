// Original file: proto/corral/admin/v1/admin.proto


export interface LogsRequest {
  'plugin'?: (string);
  'tail'?: (number);
  'follow'?: (boolean);
}

export interface LogsRequest__Output {
  'plugin': (string);
  'tail': (number);
  'follow': (boolean);
}
