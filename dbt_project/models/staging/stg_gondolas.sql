with

source as (

    select * from {{ source('catalog', 'gondolas') }}

),

renamed as (

    select
        gondola_id,
        store_id,
        zone_id,
        kind as gondola_kind,
        category,
        x0_m,
        y0_m,
        x1_m,
        y1_m,
        facing,
        cast(shelves as integer) as shelves,
        cast(plates_per_shelf as integer) as plates_per_shelf,

    from source

)

select * from renamed
