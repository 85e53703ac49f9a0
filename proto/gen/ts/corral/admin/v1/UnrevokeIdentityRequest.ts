// Original file: proto/corral/admin/v1/admin.proto


export interface UnrevokeIdentityRequest {
  'identity'?: (string);
  'plugin'?: (string);
  'target'?: "identity"|"plugin";
}

export interface UnrevokeIdentityRequest__Output {
  'identity'?: (string);
  'plugin'?: (string);
  'target'?: "identity"|"plugin";
}
