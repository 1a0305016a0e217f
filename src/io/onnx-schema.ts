/**
 * The part of ONNX's protobuf schema that a lamina export writes, as a protobufjs JSON
 * descriptor (what `protobufjs/light`'s `Root.fromJSON` loads, so no `.proto` parser ships):
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
 * TensorShapeProto, OperatorSetIdProto and StringStringEntryProto.
 *
 * Transcribed from `onnx/onnx.proto` of github.com/onnx/onnx (commit f7546912001b, ONNX
 * 1.23.0), © ONNX Project Contributors, SPDX-License-Identifier: Apache-2.0. Names, types
 * and field numbers are upstream's exactly; fields lamina never writes (training info,
 * functions, sparse tensors, sub-graphs' device configuration, …) are left out, which
 * protobuf allows: a reader skips nothing it needs, and this schema reads back what it wrote.
 *
 * @internal
 * @module
 */

/** `onnx.TensorProto.DataType` values lamina writes. */
export const DataType = { FLOAT: 1, INT64: 7, DOUBLE: 11 } as const

/** `onnx.AttributeProto.AttributeType` values lamina writes. */
export const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const

// every message is proto2, as upstream's file: repeated numbers unpacked unless marked
// `packed`, and a field set to its default (an attribute `i: 0`) is still written
const field = (type: string, id: number, rule?: 'repeated') => (rule === undefined ? { type, id } : { type, id, rule })

/** The protobufjs JSON descriptor of package `onnx` (the subset described above). */
export const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          edition: 'proto2',
          fields: {
            name: field('string', 1),
            ref_attr_name: field('string', 21),
            doc_string: field('string', 13),
            type: field('AttributeType', 20),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            g: field('GraphProto', 6),
            floats: field('float', 7, 'repeated'),
            ints: field('int64', 8, 'repeated'),
            strings: field('bytes', 9, 'repeated'),
            tensors: field('TensorProto', 10, 'repeated'),
            graphs: field('GraphProto', 11, 'repeated')
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                SPARSE_TENSOR: 11,
                TYPE_PROTO: 13,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSORS: 12,
                TYPE_PROTOS: 14
              }
            }
          }
        },
        ValueInfoProto: {
          edition: 'proto2',
          fields: {
            name: field('string', 1),
            type: field('TypeProto', 2),
            doc_string: field('string', 3),
            metadata_props: field('StringStringEntryProto', 4, 'repeated')
          }
        },
        NodeProto: {
          edition: 'proto2',
          fields: {
            input: field('string', 1, 'repeated'),
            output: field('string', 2, 'repeated'),
            name: field('string', 3),
            op_type: field('string', 4),
            domain: field('string', 7),
            overload: field('string', 8),
            attribute: field('AttributeProto', 5, 'repeated'),
            doc_string: field('string', 6),
            metadata_props: field('StringStringEntryProto', 9, 'repeated')
          }
        },
        ModelProto: {
          edition: 'proto2',
          fields: {
            ir_version: field('int64', 1),
            opset_import: field('OperatorSetIdProto', 8, 'repeated'),
            producer_name: field('string', 2),
            producer_version: field('string', 3),
            domain: field('string', 4),
            model_version: field('int64', 5),
            doc_string: field('string', 6),
            graph: field('GraphProto', 7),
            metadata_props: field('StringStringEntryProto', 14, 'repeated')
          }
        },
        StringStringEntryProto: {
          edition: 'proto2',
          fields: {
            key: field('string', 1),
            value: field('string', 2)
          }
        },
        GraphProto: {
          edition: 'proto2',
          fields: {
            node: field('NodeProto', 1, 'repeated'),
            name: field('string', 2),
            initializer: field('TensorProto', 5, 'repeated'),
            doc_string: field('string', 10),
            input: field('ValueInfoProto', 11, 'repeated'),
            output: field('ValueInfoProto', 12, 'repeated'),
            value_info: field('ValueInfoProto', 13, 'repeated'),
            metadata_props: field('StringStringEntryProto', 16, 'repeated')
          }
        },
        TensorProto: {
          edition: 'proto2',
          fields: {
            dims: field('int64', 1, 'repeated'),
            data_type: field('int32', 2),
            float_data: { ...field('float', 4, 'repeated'), options: { packed: true } },
            int32_data: { ...field('int32', 5, 'repeated'), options: { packed: true } },
            string_data: field('bytes', 6, 'repeated'),
            int64_data: { ...field('int64', 7, 'repeated'), options: { packed: true } },
            name: field('string', 8),
            doc_string: field('string', 12),
            raw_data: field('bytes', 9),
            double_data: { ...field('double', 10, 'repeated'), options: { packed: true } },
            uint64_data: { ...field('uint64', 11, 'repeated'), options: { packed: true } },
            metadata_props: field('StringStringEntryProto', 16, 'repeated')
          },
          nested: {
            DataType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                UINT8: 2,
                INT8: 3,
                UINT16: 4,
                INT16: 5,
                INT32: 6,
                INT64: 7,
                STRING: 8,
                BOOL: 9,
                FLOAT16: 10,
                DOUBLE: 11,
                UINT32: 12,
                UINT64: 13,
                COMPLEX64: 14,
                COMPLEX128: 15,
                BFLOAT16: 16
              }
            }
          }
        },
        TensorShapeProto: {
          edition: 'proto2',
          fields: {
            dim: field('Dimension', 1, 'repeated')
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: field('int64', 1),
                dim_param: field('string', 2),
                denotation: field('string', 3)
              }
            }
          }
        },
        TypeProto: {
          edition: 'proto2',
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: {
            tensor_type: field('Tensor', 1),
            denotation: field('string', 6)
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: field('int32', 1),
                shape: field('TensorShapeProto', 2)
              }
            }
          }
        },
        OperatorSetIdProto: {
          edition: 'proto2',
          fields: {
            domain: field('string', 1),
            version: field('int64', 2)
          }
        }
      }
    }
  }
} as const
