// Original file: proto/corral/admin/v1/admin.proto


export interface UnrevokeIdentityResponse {
  'identity'?: (string);
  'wasRevoked'?: (boolean);
}

export interface UnrevokeIdentityResponse__Output {
  'identity': (string);
  'wasRevoked': (boolean);
}
