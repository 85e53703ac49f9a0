// Original file: proto/corral/admin/v1/admin.proto


export interface CaptureDiagnosticsRequest {
  'plugin'?: (string);
  'cpuMs'?: (number);
}

export interface CaptureDiagnosticsRequest__Output {
  'plugin': (string);
  'cpuMs': (number);
}
