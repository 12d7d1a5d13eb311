module example.com/pinsetpin

go 1.19
