{
  "targets": [
    {
      "target_name": "scconv_native",
      "sources": [
        "src/module.cc", "src/args.cc",
        "src/conv.cc", "src/matmul.cc", "src/elementwise.cc", "src/reduce.cc",
        "src/batch_norm.cc", "src/copy.cc", "src/pool.cc",
        "src/sru.cc", "src/cru.cc", "src/scconv.cc", "src/sgd.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fexceptions", "-fno-math-errno", "-fno-trapping-math"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
