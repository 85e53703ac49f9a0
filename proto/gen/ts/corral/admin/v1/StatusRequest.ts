// Original file: proto/corral/admin/v1/admin.proto


export interface StatusRequest {
  'plugins'?: (string)[];
}

export interface StatusRequest__Output {
  'plugins': (string)[];
}
