@load ./main
@load ./policy
