// Original file: proto/corral/plugin/v1/control.proto


export interface ReloadTrustResponse {
  'crlNumber'?: (string);
}

export interface ReloadTrustResponse__Output {
  'crlNumber': (string);
}
