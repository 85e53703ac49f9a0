// Original file: proto/corral/admin/v1/admin.proto


export interface ValidateConfigRequest {
  'path'?: (string);
  'content'?: (string);
}

export interface ValidateConfigRequest__Output {
  'path': (string);
  'content': (string);
}
