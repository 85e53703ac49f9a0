// Original file: proto/corral/plugin/v1/control.proto


export interface ParkRequest {
  'graceMs'?: (number);
  'reason'?: (string);
  'answerWhenClosed'?: (boolean);
}

export interface ParkRequest__Output {
  'graceMs': (number);
  'reason': (string);
  'answerWhenClosed': (boolean);
}
