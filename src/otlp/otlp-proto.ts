import protobuf from 'protobufjs'

/**
 * The subset of the OpenTelemetry protocol's trace definitions that `POST /v1/traces` reads
 * (opentelemetry-proto v1: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
 * common/v1/common.proto, resource/v1/resource.proto), as text: fields and numbers exactly as
 * upstream, with what assay does not read left out (links, trace state, flags, schema URLs, the
 * instrumentation scope and the dropped-attribute counts are skipped as unknown fields by the
 * decoder, as protobuf decoders do). One difference, of declaration only: AnyValue's fields are
 * `optional` where upstream puts them in a oneof. The wire format is the same (each is a field
 * with presence); protobufjs's oneof setter deleted the six other fields of every decoded value
 * and its getter walked the value's keys to name the one set: half of the library's decode time
 * for LLM spans (bench/results/otlp.md "Decode without the oneof"). decode-traces.ts reads the one
 * field set, and refuses a value that sets two (a oneof keeps the last; no exporter sends two).
 */
export const OTLP_TRACE_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  optional string string_value = 1;
  optional bool bool_value = 2;
  optional int64 int_value = 3;
  optional double double_value = 4;
  optional ArrayValue array_value = 5;
  optional KeyValueList kvlist_value = 6;
  optional bytes bytes_value = 7;
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue {
  string key = 1;
  AnyValue value = 2;
}
message Resource {
  repeated KeyValue attributes = 1;
}

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}

message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
}
message ScopeSpans {
  repeated Span spans = 2;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  Status status = 15;
}
message Status {
  string message = 2;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}
`

const root = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root

export const ExportTraceServiceRequest = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest')
export const ExportTraceServiceResponse = root.lookupType('opentelemetry.proto.ExportTraceServiceResponse')
