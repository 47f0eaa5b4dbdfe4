// Input for the tool tests: fails to verify.
func.func @bad(%x: tensor<?x?x16xf32>) -> tensor<?x3x?x5xf32> {
  %0 = tfm.split_heads %x, heads = 3 : tensor<?x?x16xf32> -> tensor<?x3x?x5xf32>
  return %0 : tensor<?x3x?x5xf32>
}
