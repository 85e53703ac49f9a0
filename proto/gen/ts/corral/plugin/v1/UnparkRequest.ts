// Original file: proto/corral/plugin/v1/control.proto


export interface UnparkRequest {
}

export interface UnparkRequest__Output {
}
