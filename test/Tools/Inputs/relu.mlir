// Input for the tool tests (not a test itself).
func.func @relu(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = tfm.relu %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
