// Original file: proto/corral/admin/v1/admin.proto


export interface PluginRequest {
  'plugin'?: (string);
}

export interface PluginRequest__Output {
  'plugin': (string);
}
