// Original file: proto/corral/admin/v1/admin.proto


export interface WatchEventsRequest {
  'plugin'?: (string);
  'recent'?: (number);
}

export interface WatchEventsRequest__Output {
  'plugin': (string);
  'recent': (number);
}
