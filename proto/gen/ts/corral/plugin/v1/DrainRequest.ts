// Original file: proto/corral/plugin/v1/control.proto


export interface DrainRequest {
  'deadlineMs'?: (number);
}

export interface DrainRequest__Output {
  'deadlineMs': (number);
}
