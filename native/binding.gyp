{
  "targets": [
    {
      "target_name": "scconv_native",
      "sources": ["scconv_native.cc"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fexceptions", "-fno-math-errno"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
