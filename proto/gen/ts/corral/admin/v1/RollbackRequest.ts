// Original file: proto/corral/admin/v1/admin.proto


export interface RollbackRequest {
  'plugin'?: (string);
  'release'?: (string);
}

export interface RollbackRequest__Output {
  'plugin': (string);
  'release': (string);
}
