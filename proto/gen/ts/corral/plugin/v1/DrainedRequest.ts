// Original file: proto/corral/plugin/v1/control.proto


export interface DrainedRequest {
}

export interface DrainedRequest__Output {
}
