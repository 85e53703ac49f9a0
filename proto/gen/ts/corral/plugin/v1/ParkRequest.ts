// Original file: proto/corral/plugin/v1/control.proto


export interface ParkRequest {
  'graceMs'?: (number);
  'reason'?: (string);
}

export interface ParkRequest__Output {
  'graceMs': (number);
  'reason': (string);
}
