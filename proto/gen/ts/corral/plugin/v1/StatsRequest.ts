// Original file: proto/corral/plugin/v1/control.proto


export interface StatsRequest {
  'intervalMs'?: (number);
}

export interface StatsRequest__Output {
  'intervalMs': (number);
}
