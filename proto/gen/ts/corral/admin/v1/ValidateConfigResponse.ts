// Original file: proto/corral/admin/v1/admin.proto


export interface ValidateConfigResponse {
  'valid'?: (boolean);
  'errors'?: (string)[];
  'plugins'?: (string)[];
}

export interface ValidateConfigResponse__Output {
  'valid': (boolean);
  'errors': (string)[];
  'plugins': (string)[];
}
