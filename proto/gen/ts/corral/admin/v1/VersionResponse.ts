// Original file: proto/corral/admin/v1/admin.proto


export interface VersionResponse {
  'version'?: (string);
  'controlProtocolVersion'?: (number);
}

export interface VersionResponse__Output {
  'version': (string);
  'controlProtocolVersion': (number);
}
