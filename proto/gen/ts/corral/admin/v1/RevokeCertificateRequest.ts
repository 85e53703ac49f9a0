// Original file: proto/corral/admin/v1/admin.proto


export interface RevokeCertificateRequest {
  'serial'?: (string);
  'identity'?: (string);
  'plugin'?: (string);
  'reason'?: (string);
  'target'?: "serial"|"identity"|"plugin";
}

export interface RevokeCertificateRequest__Output {
  'serial'?: (string);
  'identity'?: (string);
  'plugin'?: (string);
  'reason': (string);
  'target'?: "serial"|"identity"|"plugin";
}
