// Original file: proto/corral/admin/v1/admin.proto


export interface ListDiagnosticsRequest {
  'plugin'?: (string);
}

export interface ListDiagnosticsRequest__Output {
  'plugin': (string);
}
