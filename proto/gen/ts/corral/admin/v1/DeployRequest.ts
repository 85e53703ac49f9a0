// Original file: proto/corral/admin/v1/admin.proto


export interface DeployRequest {
  'plugin'?: (string);
  'binary'?: (string);
}

export interface DeployRequest__Output {
  'plugin': (string);
  'binary': (string);
}
