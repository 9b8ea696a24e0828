module muster

go 1.26.8

require golang.org/x/text v0.28.0
